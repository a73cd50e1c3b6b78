"""Text encoders: sentence-transformers for ingest, ONNX Runtime for serving (no torch), and a query batcher.

Import the submodules directly; this package imports nothing so that the serving path stays light.
"""
