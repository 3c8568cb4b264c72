package io.keepgate.routing;

import java.util.Map;

/**
 * A case-insensitive hash table from host names (or host suffixes such as {@code .example.com})
 * to the {@link PathTrie} of the routes on that host, looked up without allocating: the caller
 * hashes the request's host in place, one {@link #step} per code point from the end, and probes
 * with a region of it (the whole host, or a suffix), so no lower-cased copy is ever made.
 *
 * <p>Keys are compared exactly as {@link String#regionMatches(boolean, int, String, int, int)}
 * with {@code ignoreCase} compares them (which is what {@link String#equalsIgnoreCase} does), and
 * the hash folds each code point with {@code toLowerCase(toUpperCase(cp))}, so two strings that
 * compare equal ignoring case always hash alike. Keys that differ only in case (possible only in
 * an unvalidated config) are kept as separate entries and a lookup visits every one that matches.
 *
 * <p>Threading: immutable once built.
 */
final class HostTable {
  private final int mask;
  private final int[] hashes;
  private final String[] keys;
  private final PathTrie[] tries;
  private final int size;

  /** Builds the table; {@code entries} maps each key, as written in the config, to its trie. */
  HostTable(Map<String, PathTrie> entries) {
    int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2 + 1) - 1) << 1;
    mask = capacity - 1;
    hashes = new int[capacity];
    keys = new String[capacity];
    tries = new PathTrie[capacity];
    size = entries.size();
    for (Map.Entry<String, PathTrie> entry : entries.entrySet()) {
      String key = entry.getKey();
      int hash = foldHash(key);
      int slot = spread(hash) & mask;
      while (keys[slot] != null) {
        slot = (slot + 1) & mask;
      }
      hashes[slot] = hash;
      keys[slot] = key;
      tries[slot] = entry.getValue();
    }
  }

  boolean isEmpty() {
    return size == 0;
  }

  /**
   * The best route index (see {@link PathTrie#lookup}) among the entries whose key equals
   * {@code host.substring(from)} ignoring case, given that substring's {@code hash}.
   */
  int lookup(int hash, String host, int from, String path, String method, int best) {
    int length = host.length() - from;
    int slot = spread(hash) & mask;
    String key;
    while ((key = keys[slot]) != null) {
      if (hashes[slot] == hash && key.length() == length && sameIgnoringCase(host, from, key)) {
        best = tries[slot].lookup(path, method, best);
      }
      slot = (slot + 1) & mask;
    }
    return best;
  }

  /**
   * Whether {@code host.substring(from)} equals {@code key} (of that length) ignoring case. Hosts
   * usually arrive in the case the config uses (lower case), so an exact comparison, which the JDK
   * does a word at a time, comes first; the case-insensitive one, a char at a time, decides the rest.
   */
  private static boolean sameIgnoringCase(String host, int from, String key) {
    return from == 0 ? host.equals(key) || host.equalsIgnoreCase(key)
        : host.startsWith(key, from) || host.regionMatches(true, from, key, 0, key.length());
  }

  /**
   * The case-insensitive hash of {@code s}, computed from the last code point backwards, so that
   * one backward pass over a host with {@link #step} yields the hash of each of its suffixes on
   * the way.
   */
  static int foldHash(String s) {
    int hash = 0;
    for (int i = s.length(); i > 0; ) {
      int cp = s.codePointBefore(i);
      hash = step(hash, cp);
      i -= Character.charCount(cp);
    }
    return hash;
  }

  /** Extends a backward hash by one code point to its left. */
  static int step(int hash, int cp) {
    return 31 * hash + fold(cp);
  }

  /** The case fold under which {@link String#equalsIgnoreCase} compares code points. */
  static int fold(int cp) {
    if (cp < 0x80) {
      return cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
    }
    return Character.toLowerCase(Character.toUpperCase(cp));
  }

  private static int spread(int hash) {
    return hash ^ (hash >>> 16);
  }
}
