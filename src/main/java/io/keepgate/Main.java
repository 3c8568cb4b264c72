package io.keepgate; public class Main { public static void main(String[] a){} }
