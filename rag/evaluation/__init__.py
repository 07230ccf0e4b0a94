"""Evaluation: retrieval metrics, BEIR and SQuAD-style retrieval runs, answer quality on SQuAD-style QA and real
documents, and a self-test of the user's own index.

Evaluation builds on the facade (``rag.RAG``); nothing outside the faces imports it.
"""
