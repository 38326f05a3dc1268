"""kaena/simulator"""
