"""Raw data: the sample-data generator as an asset, and the sensor that sees new raw files."""
