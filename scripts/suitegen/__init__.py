"""Helpers of ``scripts/make_suites.py``: character images, speech synthesis, turn timelines and
manifest writing for the bundled suites under ``prompts/``. Not part of the installed package."""
