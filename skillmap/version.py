"""skillmap's version, in a module of its own so that any stage can record it (an ONNX
export's manifest does) without importing the package facade above every stage."""

__version__ = "0.1.0"
