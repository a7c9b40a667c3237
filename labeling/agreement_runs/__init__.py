"""Agreement runs, the Django side of the pure ``labeling.agreement``: load a (project,
kind)'s annotations, compute, store the result on an ``AgreementRun`` (``runs``)."""
