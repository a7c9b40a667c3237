"""Pure text processing with exact character offsets: sentence segmentation and word
tokenization (with BIO role tags). Standard library only; no Django."""
