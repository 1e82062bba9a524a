#pragma once
#include <stddef.h>
#include <espeak-ng/speak_lib.h>
