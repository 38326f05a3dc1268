"""passes/conversions"""
