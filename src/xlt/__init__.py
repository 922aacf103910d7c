"""xlt: what does a training recipe do to zero-shot cross-lingual transfer?"""

__version__ = "0.1.0"
