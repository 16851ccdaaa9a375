/**
 * Berth's bindings to liblxc. Callers use {@link dev.berth.lxc.Lxc} and {@link dev.berth.lxc.LxcContainer};
 * the jextract-shaped layer in {@code dev.berth.lxc.ffm} stays inside the module.
 */
module dev.berth.lxc {
    exports dev.berth.lxc;
}
