"""SMS providers behind one interface: the log provider, a generic HTTP gateway, Aliyun and Tencent Cloud."""
