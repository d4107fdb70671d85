"""What tests share beyond fixtures: the sweep fault hooks and the network-namespace Ray cluster."""
