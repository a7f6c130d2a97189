"""Identification: recognition, exit and return cases (识别、退出、返贫), publicity, comparison."""
