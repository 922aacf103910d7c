"""Representation analysis (`xlt analyze`): how close each language's sentence representations are to the
base language's, per layer, for a study's pretrained encoder and every stage it trained.

sources (parallel sentences) -> stages (which encoders; the only contact with the pipeline) -> embed
(cached) -> measures (pure numpy) -> similarity (rows, drift) -> reading (the diagnostic) -> run (the
command); the report section is `xlt.report.representations`.
"""
