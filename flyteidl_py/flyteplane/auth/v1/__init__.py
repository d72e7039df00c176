"""Generated from idl/ by scripts/generate_idl.py. Do not edit."""
