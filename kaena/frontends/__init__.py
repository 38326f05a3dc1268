"""kaena/frontends"""
