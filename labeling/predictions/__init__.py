"""Model predictions: leads import a model's answers per task; annotators see them as
suggestions, agreement runs compare each model with the annotators and gold (never
inside the human figures), and exports carry them in their own field.
"""
