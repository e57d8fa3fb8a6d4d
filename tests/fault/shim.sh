# tests/fault/shim.sh: sourced by the fault tests (parquet_faults.sh, stream_disk_full.sh).
# fault_shim DIR builds tests/fault/fault_shim.c into DIR/fault_shim.so, sets $shim to it, and
# exports sanitizer options under which an ASan build tolerates a preloaded library and
# reports its findings with exit 99, distinct from our own exit 1.
fault_shim() {
    shim="$1/fault_shim.so"
    cc -shared -fPIC -O1 -o "$shim" tests/fault/fault_shim.c -ldl
    export ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1:exitcode=99"
    export UBSAN_OPTIONS="halt_on_error=1:exitcode=99"
}
