package io.lbkit.session.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The ARGV of {@link RedisScripts#SAVE}, in the order the script reads them (KEYS[1] is the
 * session's key). The script reads an empty string as "not given".
 *
 * @param token           this save's token: a re-sent script finds it in {@code #t} and only answers
 * @param expectedVersion compare-and-set: the version the session must have
 * @param newIdleTimeout  a new max inactive interval, or {@code null} to keep it
 * @param maxAttributes   the attribute-count limit
 * @param maxSessionBytes the size limit
 * @param channel         the event channel
 * @param message         the event to publish when the save applies ({@code ""}: none)
 * @param readBack        answer the whole hash instead of the version
 * @param writes          the attribute fields to write
 */
record SaveArgs(String token, OptionalLong expectedVersion, Duration newIdleTimeout, int maxAttributes,
                int maxSessionBytes, String channel, String message, boolean readBack, List<FieldWrite> writes) {

    /** ARGV values before the field writes. */
    static final int HEADER = 9;

    SaveArgs {
        writes = List.copyOf(writes);
    }

    /**
     * One attribute field the save writes: {@value #WIDTH} ARGV values. The script checks a
     * {@link Kind#MERGE} against its base and answers the current text of every merge whose base
     * moved, and of every {@link Kind#PROBE}, instead of writing anything.
     *
     * @param kind         what to do
     * @param field        the hash field ({@link SessionHash#attributeField})
     * @param value        the JSON text to store ({@code ""} for a removal or a probe)
     * @param expectedBase for a merge, the field's text the value was merged into ({@code ""}: absent)
     * @param nameSize     {@link io.lbkit.session.SessionJson#nameSize} of the attribute's name
     */
    record FieldWrite(Kind kind, String field, String value, String expectedBase, int nameSize) {

        /** ARGV values per field write. */
        static final int WIDTH = 5;

        enum Kind {
            SET("S"), REMOVE("R"), MERGE("M"), PROBE("P");

            /** The letter the script reads. */
            final String code;

            Kind(String code) {
                this.code = code;
            }
        }

        static FieldWrite set(String field, String json, int nameSize) {
            return new FieldWrite(Kind.SET, field, json, "", nameSize);
        }

        static FieldWrite remove(String field, int nameSize) {
            return new FieldWrite(Kind.REMOVE, field, "", "", nameSize);
        }

        static FieldWrite merge(String field, String mergedJson, String baseJson, int nameSize) {
            return new FieldWrite(Kind.MERGE, field, mergedJson, baseJson, nameSize);
        }

        static FieldWrite probe(String field, int nameSize) {
            return new FieldWrite(Kind.PROBE, field, "", "", nameSize);
        }
    }

    Object[] argv() {
        List<Object> argv = new ArrayList<>(HEADER + FieldWrite.WIDTH * writes.size());
        argv.add(token);
        argv.add(expectedVersion.isPresent() ? Long.toString(expectedVersion.getAsLong()) : "");
        argv.add(newIdleTimeout == null ? "" : Long.toString(newIdleTimeout.toMillis()));
        argv.add(Integer.toString(maxAttributes));
        argv.add(Integer.toString(maxSessionBytes));
        argv.add(channel);
        argv.add(message);
        argv.add(Integer.toString(writes.size()));
        argv.add(readBack ? "1" : "0");
        for (FieldWrite w : writes) {
            argv.add(w.kind().code);
            argv.add(w.field());
            argv.add(w.value());
            argv.add(w.expectedBase());
            argv.add(Integer.toString(w.nameSize()));
        }
        return argv.toArray();
    }
}
