"""The three networks (perception, SFT, deblur), the peer and their frozen configs."""
