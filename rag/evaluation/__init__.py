"""Evaluation: retrieval metrics, BEIR and SQuAD-style retrieval runs, and answer quality on SQuAD-style QA.

Evaluation builds on the facade (``rag.RAG``); nothing outside the faces imports it.
"""
