"""Stores models."""
