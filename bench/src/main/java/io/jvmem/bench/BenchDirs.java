package io.jvmem.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the benchmarks make their pools. */
final class BenchDirs {
    private BenchDirs() {
    }

    /** /dev/shm (tmpfs: the pool's pages are memory, as DRAM's are), or the temporary directory where there is none. */
    static Path tmpfsOrTemp() {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }
}
