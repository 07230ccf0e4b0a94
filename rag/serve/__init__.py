"""The HTTP face (an OpenAI-compatible API and the web page); empty until the server lands."""
