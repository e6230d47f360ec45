"""Clinician review round trip (paper 001, app. R): export a rating sheet, import ratings."""
