"""passes/transforms"""
