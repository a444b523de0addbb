package io.lbkit.session.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionChanges.AttributeChange;
import io.lbkit.session.SessionJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The attribute part of a save as the save script's field writes. Changes of one name collapse
 * into one net change: a value to set, a removal, or, when every change of the name is a
 * {@code MERGE}, merges that need the stored value. Such a merge is written as a compare-and-set
 * of the merged text against the base text it was computed from (known from the near cache or
 * from an earlier attempt), or as a probe for that text while it is not known.
 */
final class AttributeWrites {

    /** One attribute's net change: SET (value), REMOVE (value null, merges null) or merges. */
    private static final class NetChange {
        final String name;
        JsonNode value;
        List<AttributeChange> merges;

        NetChange(String name) {
            this.name = name;
        }
    }

    private final Map<String, NetChange> byName;

    private AttributeWrites(Map<String, NetChange> byName) {
        this.byName = byName;
    }

    static AttributeWrites of(SessionChanges changes) {
        Map<String, NetChange> byName = new LinkedHashMap<>();
        for (AttributeChange c : changes.changes()) {
            NetChange net = byName.get(c.name());
            if (net == null) {
                net = new NetChange(c.name());
                byName.put(c.name(), net);
                if (c.kind() == AttributeChange.Kind.MERGE) {
                    net.merges = new ArrayList<>(2);
                    net.merges.add(c);
                    continue;
                }
            }
            if (c.kind() == AttributeChange.Kind.MERGE && net.merges != null) {
                net.merges.add(c);
            } else {
                // a SET or REMOVE replaces what came before; a MERGE after one of them has a
                // known base: applied here, no round trip
                net.value = c.applyTo(net.value);
                net.merges = null;
            }
        }
        return new AttributeWrites(byName);
    }

    boolean isEmpty() {
        return byName.isEmpty();
    }

    /** Names of the attributes written by merges into the stored value. */
    List<String> mergedNames() {
        List<String> names = new ArrayList<>();
        for (NetChange net : byName.values()) {
            if (net.merges != null) {
                names.add(net.name);
            }
        }
        return names;
    }

    /**
     * The field writes of one attempt.
     *
     * @param knownBases attribute field to its stored text ({@code ""}: absent), for the merges
     *                   whose base is known; a merge whose field is missing here is a probe
     */
    List<SaveArgs.FieldWrite> fieldWrites(Map<String, String> knownBases) {
        List<SaveArgs.FieldWrite> writes = new ArrayList<>(byName.size());
        for (NetChange net : byName.values()) {
            String field = SessionHash.attributeField(net.name);
            int nameSize = SessionJson.nameSize(net.name);
            if (net.merges == null) {
                writes.add(net.value == null ? SaveArgs.FieldWrite.remove(field, nameSize)
                        : SaveArgs.FieldWrite.set(field, SessionJson.write(net.value), nameSize));
            } else if (knownBases.containsKey(field)) {
                String base = knownBases.get(field);
                // a stored text that does not parse cannot be merged into: the merge replaces it
                JsonNode merged = base.isEmpty() ? null : SessionHash.attributeValue(base);
                for (AttributeChange merge : net.merges) {
                    merged = merge.applyTo(merged);
                }
                writes.add(SaveArgs.FieldWrite.merge(field, SessionJson.write(merged), base, nameSize));
            } else {
                writes.add(SaveArgs.FieldWrite.probe(field, nameSize));
            }
        }
        return writes;
    }
}
