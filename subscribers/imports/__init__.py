"""Subscriber imports: read a CSV file, stage its rows, apply them in batches."""
