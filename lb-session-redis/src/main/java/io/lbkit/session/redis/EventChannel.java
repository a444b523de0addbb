package io.lbkit.session.redis;

import io.lbkit.session.SessionEvent;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.listener.StatusListener;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event side of a {@link RedisSessionStore}: its listeners, and the pub/sub channel
 * {@code <keyPrefix>events} on which the scripts publish every write as a {@link Message}, so
 * that other instances fire events and drop near-cached copies. The channel is subscribed to
 * only when something here uses it, a near cache (from the start) or a listener (from the first
 * {@link #addListener}): a store with neither needs none of the messages, its own included.
 * Expiries come from Redis keyspace notifications when {@link #subscribeExpired} was called.
 */
final class EventChannel {

    private static final Logger LOG = LoggerFactory.getLogger(RedisSessionStore.class);

    /**
     * One message on the channel: {@code T|origin|id|previous}, the type's letter ({@code C}reated,
     * {@code U}pdated, {@code D}eleted, {@code R}otated), the instance that wrote it, the session
     * id and, for a rotation, the previous id ({@code ""} otherwise).
     *
     * @param type null for a letter this version does not know (a newer writer's): the ids are
     *             still dropped from the near cache, no event is fired
     */
    record Message(SessionEvent.Type type, String origin, String id, String previousId) {

        String text() {
            return letter(type) + "|" + origin + "|" + id + "|" + (previousId == null ? "" : previousId);
        }

        /** The message in {@code text}, or null when it does not have the shape of one. */
        static Message parse(String text) {
            String[] p = text.split("\\|", -1);
            if (p.length != 4 || p[0].length() != 1 || !SessionIds.isWellFormed(p[2])) {
                return null;
            }
            SessionEvent.Type type = switch (p[0].charAt(0)) {
                case 'C' -> SessionEvent.Type.CREATED;
                case 'U' -> SessionEvent.Type.UPDATED;
                case 'D' -> SessionEvent.Type.DELETED;
                case 'R' -> SessionEvent.Type.ROTATED;
                default -> null;
            };
            return new Message(type, p[1], p[2], p[3].isEmpty() ? null : p[3]);
        }

        private static char letter(SessionEvent.Type type) {
            return switch (type) {
                case CREATED -> 'C';
                case UPDATED -> 'U';
                case DELETED -> 'D';
                case ROTATED -> 'R';
                case EXPIRED -> throw new IllegalArgumentException("expiries are Redis's to announce");
            };
        }
    }

    private final RedissonClient client;
    private final String keyPrefix;
    private final String name;
    /** This instance: its own messages are skipped (their events fired when the write returned). */
    private final String origin;
    private final NearCache nearCache;
    private final RTopic topic;
    private final List<SessionListener> listeners = new CopyOnWriteArrayList<>();
    // guarded by this
    private int topicListenerId = -1;
    private int topicStatusId = -1;
    private RPatternTopic expiredTopic;
    private int expiredListenerId = -1;
    private boolean closed;

    EventChannel(RedissonClient client, String keyPrefix, NearCache nearCache) {
        this.client = client;
        this.keyPrefix = keyPrefix;
        this.name = keyPrefix + "events";
        this.origin = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        this.nearCache = nearCache;
        this.topic = client.getTopic(name, StringCodec.INSTANCE);
    }

    /** The channel's name. */
    String name() {
        return name;
    }

    /** The text the scripts publish for an event of this instance. */
    String message(SessionEvent.Type type, String id, String previousId) {
        return new Message(type, origin, id, previousId).text();
    }

    /**
     * Subscribes to the channel, once; returns when subscribed.
     *
     * @throws IllegalStateException after {@link #close}: a subscription then would stay behind
     *     on a client the store may not own
     */
    synchronized void subscribe() {
        if (closed) {
            throw new IllegalStateException("session store is closed");
        }
        if (topicListenerId != -1) {
            return;
        }
        topicStatusId = topic.addListener(new StatusListener() {
            @Override
            public void onSubscribe(String channel) {
                // first subscription or a resubscription after a reconnect: anything cached may
                // have missed invalidations
                nearCache.setCoherent(true);
            }

            @Override
            public void onUnsubscribe(String channel) {
                nearCache.setCoherent(false);
            }
        });
        topicListenerId = topic.addListener(String.class, (channel, text) -> onMessage(text));
    }

    /** Delivers {@link SessionEvent.Type#EXPIRED} from {@code __keyevent@<database>__:expired}. */
    synchronized void subscribeExpired(int database) {
        expiredTopic = client.getPatternTopic("__keyevent@" + database + "__:expired", StringCodec.INSTANCE);
        expiredListenerId = expiredTopic.addListener(String.class, (pattern, channel, key) -> onExpired(key));
    }

    /** Adds a listener, subscribing first: events of other instances reach it only through the channel. */
    SessionStore.Registration addListener(SessionListener listener) {
        subscribe();
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Delivers an event to every listener; one that throws is logged and the others still run. */
    void fire(SessionEvent event) {
        for (SessionListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException e) {
                LOG.warn("session listener {} failed on {}: {}", l.getClass().getName(), event, e.toString());
            }
        }
    }

    /** Unsubscribes (when the client still runs); later {@link #subscribe} calls fail. */
    synchronized void close() {
        closed = true;
        try {
            if (!client.isShutdown()) {
                if (topicListenerId != -1) {
                    topic.removeListener(topicListenerId, topicStatusId);
                }
                if (expiredTopic != null) {
                    expiredTopic.removeListener(expiredListenerId);
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("removing session channel listeners failed: {}", e.getClass().getSimpleName());
        }
    }

    private void onMessage(String text) {
        Message m = Message.parse(text);
        if (m == null || origin.equals(m.origin())) {
            return; // not ours to read, or our own write: already applied here, events already fired
        }
        nearCache.invalidate(m.id());
        if (m.previousId() != null) {
            nearCache.invalidate(m.previousId());
        }
        if (m.type() != null && (m.type() != SessionEvent.Type.ROTATED || m.previousId() != null)) {
            fire(new SessionEvent(m.type(), m.id(), m.previousId()));
        }
    }

    private void onExpired(String key) {
        String id = SessionHash.idOfKey(keyPrefix, key);
        if (id != null) {
            nearCache.invalidate(id);
            fire(new SessionEvent(SessionEvent.Type.EXPIRED, id, null));
        }
    }
}
