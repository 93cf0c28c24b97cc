// placeholder until the helper lands its module
