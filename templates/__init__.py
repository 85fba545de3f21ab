"""Jinja2 templates, shipped as package data so an installed wheel finds them."""
