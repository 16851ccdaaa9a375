package dev.berth.profile;

/** One LXC config item, as {@code set_config_item} takes it. */
public record LxcConfigItem(String key, String value) {
}
