#!/usr/bin/env bash
# Placeholder until the Wasm fuzz harness lands: see issue 4.
echo "fuzz: no harness yet"
