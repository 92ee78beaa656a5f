/* Source of ACCEL_PROBE_FIRMWARE in accel.ts. Build: as --64 -o p.o accel-probe.S && objcopy -O binary p.o p.bin */
/* 64 KiB BIOS image mapped at 0xF0000 (and below 4G); the reset vector is at 0xFFFF0.
   Checks what a Linux guest needs first: protected mode, a timer interrupt through
   8259 + LAPIC virtual wire, then long mode; exit code 0x31 via isa-debug-exit. */
.code16
.org 0
start16:
  cli
  mov $0xf000, %ax
  mov %ax, %ds
  lgdtl %ds:(gdtr - start16)
  mov %cr0, %eax
  or $1, %eax
  mov %eax, %cr0
  ljmpl $0x08, $(0xf0000 + start32 - start16)
.code32
start32:
  mov $0x10, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  mov $0x7000, %esp
  /* LAPIC: software-enable, LINT0 = ExtINT so the 8259 reaches the CPU */
  movl $0x1ff, 0xfee000f0
  movl $0x700, 0xfee00350
  /* IDT vector 8 -> irq0 (32-bit interrupt gate) */
  lidt (0xf0000 + idtr - start16)
  /* 8259: ICW1..4, vector base 8, unmask IRQ0 */
  mov $0x11, %al; out %al, $0x20
  mov $0x08, %al; out %al, $0x21
  mov $0x04, %al; out %al, $0x21
  mov $0x01, %al; out %al, $0x21
  mov $0xfe, %al; out %al, $0x21
  /* PIT channel 0, rate generator, ~1 ms */
  mov $0x34, %al; out %al, $0x43
  mov $0xa9, %al; out %al, $0x40
  mov $0x04, %al; out %al, $0x40
  sti
1: hlt
  jmp 1b
irq0:
  cli
  mov $0x20, %al; out %al, $0x20
  /* long mode: identity-map 2 MiB; tables at 0x1000/0x2000/0x3000 */
  mov $0x1000, %edi
  xor %eax, %eax
  mov $0xc00, %ecx
  rep stosl
  movl $0x2003, 0x1000
  movl $0x3003, 0x2000
  movl $0x83, 0x3000
  mov $0x1000, %eax
  mov %eax, %cr3
  mov %cr4, %eax
  or $0x20, %eax
  mov %eax, %cr4
  mov $0xc0000080, %ecx
  rdmsr
  or $0x100, %eax
  wrmsr
  mov %cr0, %eax
  or $0x80000000, %eax
  mov %eax, %cr0
  ljmp $0x18, $(0xf0000 + start64 - start16)
.code64
start64:
  mov $0x31, %al
  out %al, $0xf4
2: hlt
  jmp 2b
.balign 8
gdt:
  .quad 0
  .quad 0x00cf9a000000ffff  /* 0x08 code32 */
  .quad 0x00cf92000000ffff  /* 0x10 data */
  .quad 0x00af9a000000ffff  /* 0x18 code64 */
idt:
  .fill 8, 8, 0
  .word (irq0 - start16), 0x08, 0x8e00, 0x000f
gdtr:
  .word gdtr - gdt - 1
  .long 0xf0000 + gdt - start16
idtr:
  .word gdtr - idt - 1
  .long 0xf0000 + idt - start16
.code16
.org 0xfff0
reset:
  ljmp $0xf000, $(start16 - start16)
.org 0x10000
