"""Helpers of ``scripts/make_suites.py`` for the bundled suites under ``prompts/``: character
images (``characters``), speech behind one interface (``speech``: espeak-ng and the Ogg writer;
``neural``: Piper and Kokoro; ``vocoder``: WORLD reshaping and singing), turn timelines
(``timeline``), what the suites contain (``specs``: smoke and mini; ``standard`` with the texts of
``standard_text``), and manifests, READMEs and suite cards (``manifest``, ``cards``).
Not part of the installed package."""
