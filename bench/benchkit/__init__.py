"""Shared pieces of the benchmarks: servers, databases, the wrk load generator, reports."""
