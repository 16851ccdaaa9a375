package dev.berth.profile;

import java.util.List;

/**
 * A fully composed and checked profile.
 *
 * @param applied the profiles applied, parents first, each once
 * @param spec    the result
 * @param tree    the merged tree, which still knows the file and line of every value
 */
public record ComposedProfile(List<String> applied, ProfileSpec spec, Node.MapNode tree) {
}
