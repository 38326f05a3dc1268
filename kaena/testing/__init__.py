"""Test and benchmark support: the model zoo, framework reference runs, the NEFF fuzzer."""
