#!/usr/bin/python3
# Scores a CSV (rows of floats, no header) with scikit-learn's IsolationForest and writes one
# anomaly score per line (higher = more anomalous, i.e. -score_samples). Used by
# tests/component/test_iforest_sklearn.c and bench/bench_iforest.c as the reference.
# usage: iforest_sklearn.py IN.csv OUT.txt TREES SEED [--time]
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest

X = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
trees, seed = int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
f = IsolationForest(n_estimators=trees, max_samples=256, random_state=seed).fit(X)
s = -f.score_samples(X)
dt = time.perf_counter() - t0
np.savetxt(sys.argv[2], s, fmt="%.17g")
if "--time" in sys.argv:
    print("%.6f" % dt)
