"""The report's figures: matplotlib's PNGs (`plots`), training curves, and transfer against linguistic distance."""
