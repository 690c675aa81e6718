"""Rule packs, one module per program (``forms/rules/<id with - as _>.py``), each defining ``PACK``.

The engine (``forms.checks``) imports the module of a case's program when it runs the checks.
"""
