"""Batch mode: whole tables of enterprises, projects, loans and awards, evaluated column-wise."""
