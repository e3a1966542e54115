import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * bin/test's closing lines: one line per test tier (tests, failed, skipped, time) from the surefire and failsafe XML
 * reports under {@code <root>/<module>/target}, then each failed test and each skipped one with its reason. A class's
 * tier is its JUnit {@code @Tag}, read from its source. Run as a source file: {@code java bin/TestSummary.java <root>}.
 */
public final class TestSummary {
    private static final Pattern TAG = Pattern.compile("@(?:org\\.junit\\.jupiter\\.api\\.)?Tag\\(\"([^\"]+)\"\\)");
    private static final List<String> ORDER = List.of("unit", "integration", "stress", "bench-smoke");

    private static final class Tier {
        long tests;
        long failed;
        long skipped;
        double seconds;
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        Map<String, Tier> tiers = new TreeMap<>((a, b) -> rank(a) != rank(b) ? rank(a) - rank(b) : a.compareTo(b));
        List<String> failures = new ArrayList<>();
        List<String> skips = new ArrayList<>();
        List<Path> reports;
        try (Stream<Path> modules = Files.list(root)) {
            reports = modules.flatMap(m -> Stream.of(m.resolve("target/surefire-reports"), m.resolve("target/failsafe-reports")))
                    .filter(Files::isDirectory)
                    .flatMap(d -> {
                        try (Stream<Path> s = Files.list(d)) {
                            return s.filter(f -> f.getFileName().toString().matches("TEST-.*\\.xml")).toList().stream();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).sorted().toList();
        }
        var builder = DocumentBuilderFactory.newInstance().newDocumentBuilder();
        for (Path f : reports) {
            Element suite = builder.parse(f.toFile()).getDocumentElement();
            String cls = suite.getAttribute("name");
            Path module = f.getParent().getParent().getParent();
            Tier t = tiers.computeIfAbsent(tier(module, cls), k -> new Tier());
            t.tests += num(suite, "tests");
            t.failed += num(suite, "failures") + num(suite, "errors");
            t.skipped += num(suite, "skipped");
            String time = suite.getAttribute("time").replace(",", ""); // surefire may group thousands
            t.seconds += time.isEmpty() ? 0 : Double.parseDouble(time);
            NodeList cases = suite.getElementsByTagName("testcase");
            for (int i = 0; i < cases.getLength(); i++) {
                Element c = (Element) cases.item(i);
                String name = simple(c.getAttribute("classname")) + "." + c.getAttribute("name");
                for (String kind : List.of("failure", "error")) {
                    NodeList n = c.getElementsByTagName(kind);
                    if (n.getLength() > 0) {
                        failures.add("  FAILED   " + name + ": " + firstLine(((Element) n.item(0)).getAttribute("message")));
                    }
                }
                NodeList s = c.getElementsByTagName("skipped");
                if (s.getLength() > 0) {
                    String why = firstLine(((Element) s.item(0)).getAttribute("message"));
                    skips.add("  skipped  " + name + (why.isEmpty() ? "" : ": " + why));
                }
            }
        }
        if (tiers.isEmpty()) {
            System.out.println("  no test reports (the build stopped before the tests ran, or -Dgroups matched nothing)");
        }
        for (Map.Entry<String, Tier> e : tiers.entrySet()) {
            Tier t = e.getValue();
            System.out.printf(Locale.ROOT, "  %-12s %5d tests, %d failed, %d skipped, %.0f s%n", e.getKey() + ":", t.tests, t.failed,
                    t.skipped, t.seconds);
        }
        failures.forEach(System.out::println);
        skips.forEach(System.out::println);
    }

    private static int rank(String tier) {
        int i = ORDER.indexOf(tier);
        return i < 0 ? ORDER.size() : i;
    }

    private static long num(Element e, String attr) {
        String v = e.getAttribute(attr);
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }

    private static String simple(String cls) {
        return cls.substring(cls.lastIndexOf('.') + 1);
    }

    private static String firstLine(String s) {
        String line = s.strip().lines().findFirst().orElse("");
        return line.length() > 160 ? line.substring(0, 157) + "..." : line;
    }

    /** The class's {@code @Tag} in its source ({@code untagged} if none is found). */
    private static String tier(Path module, String cls) throws java.io.IOException {
        String outer = cls.contains("$") ? cls.substring(0, cls.indexOf('$')) : cls;
        Path src = module.resolve("src/test/java").resolve(outer.replace('.', '/') + ".java");
        if (Files.isRegularFile(src)) {
            Matcher m = TAG.matcher(Files.readString(src));
            if (m.find()) {
                return m.group(1);
            }
        }
        return "untagged";
    }
}
