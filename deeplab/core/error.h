#pragma once
// Error types of the library.  Every message names the file, key or value at
// fault and says what was expected; the CLI prints what() as one line.

#include <stdexcept>
#include <string>

namespace deeplab {

/// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A config file, key, value or command-line override is wrong.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A file could not be read or written, or its content is malformed.
class IoError : public Error {
 public:
  using Error::Error;
};

/// Input data (images, labels, predictions) is inconsistent.
class DataError : public Error {
 public:
  using Error::Error;
};

/// The requested device or runtime setting is unavailable.
class RuntimeError : public Error {
 public:
  using Error::Error;
};

}  // namespace deeplab
