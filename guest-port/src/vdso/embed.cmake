# SPDX-License-Identifier: GPL-2.0
#
# cmake -DIN=vdso.so -DOUT=vdso_image.inc -P embed.cmake
#
# The vDSO as a list of byte values for a C++ array, once it has been
# checked to need no relocation (the guest uses it as it is mapped).
execute_process(COMMAND readelf -rW ${IN} OUTPUT_VARIABLE relocs RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT relocs MATCHES "no relocations")
	message(FATAL_ERROR "${IN} has relocations:\n${relocs}")
endif()
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "${bytes}\n")
