"""One stage, run: its context, its model, training (with checkpoint selection and tracking) or evaluation."""
