"""Helpers of the telephony benchmark (bench_pbx)."""
