package io.jvmem.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One JMH result row: benchmark method, parameters, threads, score and its 99.9% error. */
record Results(String benchmark, Map<String, String> params, int threads, double score, double error, String unit) {

    String method() {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    String param(String name) {
        return params.get(name);
    }

    @SuppressWarnings("unchecked")
    static List<Results> read(Path json) throws IOException {
        List<Results> out = new ArrayList<>();
        if (!Files.exists(json)) {
            return out;
        }
        for (Object o : (List<Object>) io.jvmem.allocator.Json.parse(Files.readString(json)
                // a bare NaN is not JSON; some JMH versions wrote one for an unknown error
                .replaceAll(":\\s*-?(NaN|Infinity)\\b", ": null"))) {
            Map<String, Object> m = (Map<String, Object>) o;
            Map<String, Object> pm = (Map<String, Object>) m.get("primaryMetric");
            Map<String, String> params = new java.util.LinkedHashMap<>();
            Object p = m.get("params");
            if (p instanceof Map<?, ?> pp) {
                pp.forEach((k, v) -> params.put((String) k, String.valueOf(v)));
            }
            double err = pm.get("scoreError") instanceof Number d ? d.doubleValue() : Double.NaN;
            out.add(new Results((String) m.get("benchmark"), params, ((Number) m.get("threads")).intValue(),
                    ((Number) pm.get("score")).doubleValue(), err, (String) pm.get("scoreUnit")));
        }
        return out;
    }

    static Results find(List<Results> rows, String method, String paramName, String paramValue) {
        for (Results r : rows) {
            if (r.method().equals(method) && (paramName == null || paramValue.equals(r.param(paramName)))) {
                return r;
            }
        }
        return null;
    }

    String formatted() {
        return Double.isNaN(error) ? String.format("%.1f", score) : String.format("%.1f ± %.1f", score, error);
    }
}
