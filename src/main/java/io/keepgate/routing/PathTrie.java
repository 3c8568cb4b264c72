package io.keepgate.routing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The path prefixes of the routes of one host bucket, as a path-compressed trie over the raw
 * characters of the prefix (case-sensitive, no normalisation: the same test as
 * {@code path.startsWith(prefix)}).
 *
 * <p>A route is identified by its index in config order. {@link #lookup} walks the trie along the
 * request path, visiting only the nodes whose prefix the path starts with, so its cost depends on
 * the length of the path and not on the number of routes. Each node answers "the lowest index
 * among my routes that allows this method" with one field read and at most one map lookup; each
 * node also knows the lowest index anywhere below it, so a walk stops as soon as nothing further
 * down can beat the best route found so far.
 *
 * <p>Threading: immutable once built; lookups allocate nothing.
 */
final class PathTrie {
  /** "No route": larger than every index, so {@code min} needs no special case. */
  static final int NONE = Integer.MAX_VALUE;

  /** Children lists up to this length are searched linearly, longer ones by binary search. */
  private static final int LINEAR_CHILDREN = 8;

  private final Node root;

  private PathTrie(Node root) {
    this.root = root;
  }

  /**
   * The lowest index of a route in this trie whose prefix {@code path} starts with and whose
   * methods allow {@code method}, if lower than {@code best}; otherwise {@code best}.
   */
  int lookup(String path, String method, int best) {
    Node node = root;
    int pos = 0;
    int length = path.length();
    while (node.subtreeMin < best) {
      int here = node.best(method);
      if (here < best) {
        best = here;
      }
      if (pos == length) {
        break;
      }
      Node child = node.child(path.charAt(pos));
      if (child == null || !path.startsWith(child.label, pos)) {
        break;
      }
      pos += child.label.length();
      node = child;
    }
    return best;
  }

  /** One immutable trie node: the routes whose prefix ends exactly here, and the branches below. */
  private static final class Node {
    /** The characters on the edge from the parent to this node (empty for the root). */
    final String label;
    /** The first character of each child's label, sorted. */
    final char[] childKeys;
    final Node[] children;
    /** The lowest index of a route ending here that allows every method, or {@link #NONE}. */
    final int anyMethod;
    /**
     * For each method named by a route ending here with a lower index than {@link #anyMethod}:
     * the lowest such index. Null when empty.
     */
    final Map<String, Integer> byMethod;
    /** The lowest index of any route ending here or below, whatever its methods. */
    final int subtreeMin;

    Node(String label, char[] childKeys, Node[] children, int anyMethod, Map<String, Integer> byMethod,
        int subtreeMin) {
      this.label = label;
      this.childKeys = childKeys;
      this.children = children;
      this.anyMethod = anyMethod;
      this.byMethod = byMethod;
      this.subtreeMin = subtreeMin;
    }

    int best(String method) {
      int best = anyMethod;
      if (byMethod != null) {
        Integer index = byMethod.get(method);
        if (index != null && index < best) {
          best = index;
        }
      }
      return best;
    }

    Node child(char c) {
      char[] keys = childKeys;
      if (keys.length <= LINEAR_CHILDREN) {
        for (int i = 0; i < keys.length; i++) {
          if (keys[i] == c) {
            return children[i];
          }
        }
        return null;
      }
      int i = Arrays.binarySearch(keys, c);
      return i >= 0 ? children[i] : null;
    }
  }

  /**
   * Collects routes (in any order) and builds the trie. Not thread-safe; used once per config.
   */
  static final class Builder {
    private final Draft root = new Draft();

    /** Adds the route with config index {@code index}; empty {@code methods} allows all. */
    Builder add(String prefix, int index, Set<String> methods) {
      Draft node = root;
      for (int i = 0; i < prefix.length(); i++) {
        node = node.children.computeIfAbsent(prefix.charAt(i), c -> new Draft());
      }
      node.routes.add(new Entry(index, methods));
      return this;
    }

    PathTrie build() {
      return new PathTrie(freeze("", root));
    }

    /** Freezes {@code draft}, reached by {@code label}, merging single-child chains into one edge. */
    private static Node freeze(String label, Draft draft) {
      if (!label.isEmpty()) {
        StringBuilder merged = new StringBuilder(label);
        while (draft.routes.isEmpty() && draft.children.size() == 1) {
          Map.Entry<Character, Draft> only = draft.children.firstEntry();
          merged.append(only.getKey().charValue());
          draft = only.getValue();
        }
        label = merged.toString();
      }
      char[] keys = new char[draft.children.size()];
      Node[] children = new Node[keys.length];
      int subtreeMin = NONE;
      int i = 0;
      for (Map.Entry<Character, Draft> child : draft.children.entrySet()) {
        keys[i] = child.getKey();
        children[i] = freeze(String.valueOf(child.getKey().charValue()), child.getValue());
        subtreeMin = Math.min(subtreeMin, children[i].subtreeMin);
        i++;
      }
      int anyMethod = NONE;
      for (Entry route : draft.routes) {
        subtreeMin = Math.min(subtreeMin, route.index);
        if (route.methods.isEmpty()) {
          anyMethod = Math.min(anyMethod, route.index);
        }
      }
      Map<String, Integer> byMethod = new HashMap<>();
      for (Entry route : draft.routes) {
        if (route.index < anyMethod) {
          for (String method : route.methods) {
            byMethod.merge(method, route.index, Math::min);
          }
        }
      }
      return new Node(label, keys, children, anyMethod, byMethod.isEmpty() ? null : Map.copyOf(byMethod),
          subtreeMin);
    }
  }

  private record Entry(int index, Set<String> methods) {}

  /** A mutable one-character-per-edge node, only while building. */
  private static final class Draft {
    final TreeMap<Character, Draft> children = new TreeMap<>();
    final List<Entry> routes = new ArrayList<>(1);
  }
}
