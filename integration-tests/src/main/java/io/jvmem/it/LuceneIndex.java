package io.jvmem.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDataOutput;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.store.ReadAdvice;
import org.apache.lucene.store.SingleInstanceLockFactory;

/**
 * Ordinary Apache Lucene 10 use, the same index built twice and searched:
 *
 * <ul>
 *   <li>an {@link MMapDirectory} in a fresh temp directory: on JDK 21+ Lucene maps every index file with
 *       {@code FileChannel.map(mode, offset, length, arena)} into {@code Arena.ofShared()} segments (one arena per
 *       segment group, its own {@code RefCountedSharedArena}) and, with a read advice other than NORMAL, calls
 *       {@code posix_madvise} on each mapping through a {@code Linker} downcall handle
 *       ({@code org.apache.lucene.store.PosixNativeAccess}). The program asks for {@link ReadAdvice#RANDOM} on every
 *       file, and then reads {@code /proc/self/smaps}: each mapping of an index file must carry the kernel's
 *       {@code rr} flag (MADV_RANDOM), which only that madvise call sets;</li>
 *   <li>a {@link ByteBuffersDirectory} whose blocks come from {@code ByteBuffer.allocateDirect} in a lambda of this
 *       class, which Lucene's {@code ByteBuffersDataOutput} calls for every block it writes (counted:
 *       {@code directBlocks}, {@code directBytes}); Lucene then reads the index from those direct buffers.</li>
 * </ul>
 *
 * <p>Each index: {@code docs} documents (a stored {@code id}, a tokenized and stored {@code body} of 4..35 words
 * from a 40-word vocabulary, an {@code IntPoint} plus stored {@code num}, a {@code tag}), committed; then every doc
 * with tag {@code t3} deleted and every 97th updated with a new body, committed; searched; merged to one segment and
 * searched again. Each search compares, against a model kept here, the exact hit counts of term, phrase, range and
 * boolean queries, the hits of id lookups, and every live document's stored fields.
 *
 * <p>Arguments (optional): {@code docs} (default 5000), {@code seed} (default 11). Prints {@code LUCENE OK ...}
 * (with {@code mappedFiles}: mappings of index files seen in smaps while the reader was open, {@code advisedRandom}:
 * how many of them had {@code rr}, {@code input}: the class of an MMapDirectory input) and exits 0, or prints
 * {@code LUCENE FAIL ...} and exits 1.
 */
public final class LuceneIndex {
    static final String[] WORDS = {
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
        "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
        "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "amber", "basalt", "cobalt", "dune",
        "ember", "fjord", "granite", "harbor", "island", "jade", "krill", "lagoon", "meadow", "nebula"};

    private LuceneIndex() {
    }

    public static void main(String[] args) {
        int docs = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 11L;
        ProgramExit.withFailure("LUCENE", () -> run(docs, seed));
    }

    /** One live document as the model has it. */
    record Doc(String id, String body, int num, String tag) {
        String[] words() {
            return body.split(" ");
        }
    }

    static long mix(long seed, long i) {
        long x = seed * 0x9E3779B97F4A7C15L + i * 0xD1B54A32D192ED03L;
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    /** 4..35 words; low word indexes are more frequent (the smaller of two draws). */
    static String body(long seed, int i) {
        long h = mix(seed, i);
        int n = 4 + (int) Long.remainderUnsigned(h, 32);
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < n; k++) {
            long x = mix(h, k);
            int w = Math.min((int) Long.remainderUnsigned(x, WORDS.length), (int) Long.remainderUnsigned(x >>> 32, WORDS.length));
            b.append(k == 0 ? "" : " ").append(WORDS[w]);
        }
        return b.toString();
    }

    static Document document(Doc d) {
        Document doc = new Document();
        doc.add(new StringField("id", d.id, Field.Store.YES));
        doc.add(new TextField("body", d.body, Field.Store.YES));
        doc.add(new IntPoint("num", d.num));
        doc.add(new StoredField("num", d.num));
        doc.add(new StringField("tag", d.tag, Field.Store.YES));
        return doc;
    }

    static String run(int docs, long seed) throws IOException {
        Path tmp = Files.createTempDirectory("jvmem-lucene-");
        try {
            StringBuilder ok = new StringBuilder("LUCENE OK docs=" + docs);
            try (MMapDirectory mmap = new MMapDirectory(tmp.resolve("index"))) {
                // Every file RANDOM: MMapDirectory then calls posix_madvise on each mapping it makes.
                mmap.setReadAdvice((name, context) -> Optional.of(ReadAdvice.RANDOM));
                String failure = indexAndSearch(mmap, docs, seed, ok, tmp.resolve("index"));
                if (failure != null) {
                    return "MMapDirectory: " + failure;
                }
                try (IndexInput in = mmap.openInput(mmap.listAll()[0], IOContext.DEFAULT)) {
                    ok.append(" input=").append(in.getClass().getName());
                }
            }
            ok.append(" supportsMadvise=").append(MMapDirectory.supportsMadvise());
            // Lucene's ByteBuffersDataOutput calls this for every block of every file it writes.
            LongAdder blocks = new LongAdder();
            LongAdder blockBytes = new LongAdder();
            IntFunction<ByteBuffer> directBlock = size -> {
                blocks.increment();
                blockBytes.add(size);
                return ByteBuffer.allocateDirect(size);
            };
            try (ByteBuffersDirectory direct = new ByteBuffersDirectory(new SingleInstanceLockFactory(),
                    () -> new ByteBuffersDataOutput(ByteBuffersDataOutput.DEFAULT_MIN_BITS_PER_BLOCK,
                            ByteBuffersDataOutput.DEFAULT_MAX_BITS_PER_BLOCK, directBlock, ByteBuffersDataOutput.NO_REUSE),
                    ByteBuffersDirectory.OUTPUT_AS_MANY_BUFFERS)) {
                String failure = indexAndSearch(direct, docs, seed, new StringBuilder(), null);
                if (failure != null) {
                    return "ByteBuffersDirectory (direct blocks): " + failure;
                }
            }
            ok.append(" directBlocks=").append(blocks.sum()).append(" directBytes=").append(blockBytes.sum());
            System.out.println(ok);
            return null;
        } finally {
            try (Stream<Path> s = Files.walk(tmp)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Builds, changes, searches and merges the index in {@code dir}; appends the counts to {@code ok}. */
    static String indexAndSearch(Directory dir, int docs, long seed, StringBuilder ok, Path mappedDir) throws IOException {
        Map<String, Doc> model = new TreeMap<>();
        IndexWriterConfig config = new IndexWriterConfig(new StandardAnalyzer())
                .setOpenMode(IndexWriterConfig.OpenMode.CREATE)
                .setMaxBufferedDocs(Math.max(2, docs / 4)); // a few segments before the merge
        try (IndexWriter writer = new IndexWriter(dir, config)) {
            for (int i = 0; i < docs; i++) {
                Doc d = new Doc("doc-" + i, body(seed, i), (int) Long.remainderUnsigned(mix(seed + 1, i), 100_000),
                        "t" + (i % 7));
                model.put(d.id, d);
                writer.addDocument(document(d));
            }
            writer.commit();
            writer.deleteDocuments(new Term("tag", "t3"));
            model.values().removeIf(d -> d.tag.equals("t3"));
            for (int i = 1; i < docs; i += 97) {
                Doc old = model.get("doc-" + i);
                if (old != null) {
                    Doc d = new Doc(old.id, "revised " + body(seed + 2, i), old.num + 1, old.tag);
                    writer.updateDocument(new Term("id", d.id), document(d));
                    model.put(d.id, d);
                }
            }
            writer.commit();
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                String failure = check(reader, model, ok, "");
                if (failure != null) {
                    return failure;
                }
                ok.append(" segments=").append(reader.leaves().size());
                if (mappedDir != null) {
                    long[] maps = mappings(mappedDir);
                    ok.append(" mappedFiles=").append(maps[0]).append(" advisedRandom=").append(maps[1]);
                }
            }
            writer.forceMerge(1);
            writer.commit();
        }
        try (DirectoryReader reader = DirectoryReader.open(dir)) {
            if (reader.leaves().size() != 1) {
                return "forceMerge(1) left " + reader.leaves().size() + " segments";
            }
            return check(reader, model, new StringBuilder(), "after the merge: ");
        }
    }

    /** Every query's exact hit count, every id lookup and every live document's stored fields against the model. */
    static String check(DirectoryReader reader, Map<String, Doc> model, StringBuilder ok, String when) throws IOException {
        if (reader.numDocs() != model.size()) {
            return when + "numDocs " + reader.numDocs() + ", expected " + model.size();
        }
        IndexSearcher searcher = new IndexSearcher(reader);
        record Expect(String name, Query query, long hits) {
        }
        List<Expect> expects = new ArrayList<>();
        for (String w : new String[] {"alpha", "golf", "nebula", "revised"}) {
            expects.add(new Expect("term:" + w, new TermQuery(new Term("body", w)),
                    model.values().stream().filter(d -> List.of(d.words()).contains(w)).count()));
        }
        expects.add(new Expect("phrase", new PhraseQuery("body", "alpha", "bravo"),
                model.values().stream().filter(d -> hasPhrase(d.words(), "alpha", "bravo")).count()));
        expects.add(new Expect("range", IntPoint.newRangeQuery("num", 20_000, 45_000),
                model.values().stream().filter(d -> d.num >= 20_000 && d.num <= 45_000).count()));
        BooleanQuery bool = new BooleanQuery.Builder()
                .add(new TermQuery(new Term("body", "charlie")), Occur.MUST)
                .add(IntPoint.newRangeQuery("num", 0, 60_000), Occur.MUST)
                .add(new TermQuery(new Term("body", "delta")), Occur.MUST_NOT)
                .build();
        expects.add(new Expect("boolean", bool, model.values().stream()
                .filter(d -> List.of(d.words()).contains("charlie") && !List.of(d.words()).contains("delta") && d.num <= 60_000)
                .count()));
        for (Expect e : expects) {
            int got = searcher.count(e.query);
            if (got != e.hits) {
                return when + e.name + " hits " + got + ", expected " + e.hits;
            }
            if (got == 0) {
                return when + e.name + " has no hits: the test data should give it some";
            }
            ok.append(' ').append(e.name.replace("term:", "")).append('=').append(got);
        }
        StoredFields stored = searcher.storedFields();
        int i = 0;
        for (Doc d : model.values()) {
            if (i++ % 50 != 0) {
                continue;
            }
            TopDocs top = searcher.search(new TermQuery(new Term("id", d.id)), 5);
            if (top.scoreDocs.length != 1) {
                return when + "id " + d.id + " found " + top.scoreDocs.length + " times";
            }
            String diff = compare(d, stored.document(top.scoreDocs[0].doc));
            if (diff != null) {
                return when + diff;
            }
        }
        int seen = 0;
        for (var leaf : reader.leaves()) {
            var live = leaf.reader().getLiveDocs();
            StoredFields leafStored = leaf.reader().storedFields();
            for (int doc = 0; doc < leaf.reader().maxDoc(); doc++) {
                if (live != null && !live.get(doc)) {
                    continue;
                }
                Document got = leafStored.document(doc);
                Doc d = model.get(got.get("id"));
                if (d == null) {
                    return when + "a live document the model has not: " + got.get("id");
                }
                String diff = compare(d, got);
                if (diff != null) {
                    return when + diff;
                }
                seen++;
            }
        }
        if (seen != model.size()) {
            return when + "read " + seen + " live documents, expected " + model.size();
        }
        ok.append(" live=").append(seen);
        return null;
    }

    static String compare(Doc d, Document got) {
        if (!d.body.equals(got.get("body")) || !d.tag.equals(got.get("tag"))
                || got.getField("num").numericValue().intValue() != d.num) {
            return "stored fields of " + d.id + ": " + got + ", expected " + d;
        }
        return null;
    }

    static boolean hasPhrase(String[] words, String a, String b) {
        for (int k = 0; k + 1 < words.length; k++) {
            if (words[k].equals(a) && words[k + 1].equals(b)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {mappings of files under {@code dir}, how many of them the kernel flags {@code rr} (MADV_RANDOM)}, from
     * /proc/self/smaps: each mapping's header line names its file, its VmFlags line lists its flags.
     */
    static long[] mappings(Path dir) throws IOException {
        String prefix = dir.toRealPath().toString() + "/";
        long mapped = 0;
        long random = 0;
        boolean inDir = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"), StandardCharsets.UTF_8)) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 0 && f[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                inDir = f.length >= 6 && f[5].startsWith(prefix);
                if (inDir) {
                    mapped++;
                }
            } else if (inDir && f[0].equals("VmFlags:")) {
                if (List.of(f).contains("rr")) {
                    random++;
                }
            }
        }
        return new long[] {mapped, random};
    }
}
