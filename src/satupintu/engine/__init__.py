"""The engine: pure-Python contact-center maths (no Django)."""
