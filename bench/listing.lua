-- Slot listing: the same anonymous GET again and again (the path is given on the wrk command line).
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
